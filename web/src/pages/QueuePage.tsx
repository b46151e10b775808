// Placeholder: filled in by the UI work on issue 7.
export function QueuePage() {
  return <h1>QueuePage</h1>;
}
