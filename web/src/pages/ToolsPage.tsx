// Placeholder: filled in by the UI work on issue 7.
export function ToolsPage() {
  return <h1>ToolsPage</h1>;
}
