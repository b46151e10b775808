// Accessibility check for component tests: every form control in `root` has an accessible name.
import { computeAccessibleName } from "dom-accessibility-api";

// Returns a description of each input, select, textarea and button without an accessible name.
export function unnamedControls(root: ParentNode = document.body): string[] {
  const out: string[] = [];
  root.querySelectorAll<HTMLElement>("input, select, textarea, button").forEach((el) => {
    if (el instanceof HTMLInputElement && el.type === "hidden") return;
    if (!computeAccessibleName(el).trim()) out.push(el.outerHTML.slice(0, 120));
  });
  return out;
}

// How many controls there are, so a test can also assert it checked something.
export function controlCount(root: ParentNode = document.body): number {
  return root.querySelectorAll("input:not([type=hidden]), select, textarea, button").length;
}
