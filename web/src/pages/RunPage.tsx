// Placeholder: filled in by the UI work on issue 7.
export function RunPage() {
  return <h1>RunPage</h1>;
}
