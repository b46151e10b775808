// Placeholder: filled in by the UI work on issue 7.
export function NotFoundPage() {
  return <h1>NotFoundPage</h1>;
}
