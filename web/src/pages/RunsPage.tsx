// Placeholder: filled in by the UI work on issue 7.
export function RunsPage() {
  return <h1>RunsPage</h1>;
}
