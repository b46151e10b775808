// Placeholder: filled in by the UI work on issue 7.
export function SignInPage() {
  return <h1>SignInPage</h1>;
}
