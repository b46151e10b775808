// Placeholder: filled in by the UI work on issue 7.
export function NewRunPage() {
  return <h1>NewRunPage</h1>;
}
