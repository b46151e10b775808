// Conditions the scenarios wait for and check: text of a locator reaching a value (polled
// with a bounded timeout, like Playwright's own expect), horizontal page scroll, and the
// accessible name of every control as Chromium's accessibility tree computes it.
import { expect } from "vitest";
import type { Locator, Page } from "playwright-core";

export const uiTimeout = 30_000;

const noText = "\u0000no text: ";

// The text as rendered (innerText: block and flex items are separated), spaces collapsed.
// A locator that is missing or matches several elements reads as "\0no text: <reason>",
// which no wanted text matches and which shows in the failure message of a wait.
export async function textOf(locator: Locator): Promise<string> {
  try {
    return (await locator.innerText({ timeout: 1_000 })).replace(/\s+/g, " ").trim();
  } catch (e) {
    return `${noText}${String(e).split("\n")[0]}`;
  }
}

// Waits until the locator's text matches (a string must be contained; a RegExp must match).
export async function waitForText(locator: Locator, want: string | RegExp, timeout = uiTimeout): Promise<string> {
  const ok = (t: string) => !t.startsWith(noText) && (typeof want === "string" ? t.includes(want) : want.test(t));
  await expect
    .poll(() => textOf(locator), { timeout, interval: 100, message: `text of ${locator.toString()} to match ${String(want)}` })
    .toSatisfy(ok);
  return textOf(locator);
}

export async function waitForCount(locator: Locator, want: (n: number) => boolean, what: string, timeout = uiTimeout): Promise<number> {
  await expect.poll(async () => want(await locator.count()), { timeout, interval: 100, message: what }).toBe(true);
  return locator.count();
}

// The page itself must not scroll sideways (tables and the graph scroll in their own box).
export async function horizontalOverflow(page: Page): Promise<{ scrollWidth: number; clientWidth: number; widest: string[] }> {
  return page.evaluate(() => {
    const root = document.documentElement;
    const width = root.clientWidth;
    // For the failure message: the elements that stick out past the right edge.
    const widest: string[] = [];
    for (const el of Array.from(document.body.querySelectorAll<HTMLElement>("*"))) {
      const r = el.getBoundingClientRect();
      if (r.right > width + 1 && widest.length < 8) {
        widest.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}${el.className && typeof el.className === "string" ? `.${el.className.split(" ").join(".")}` : ""} (right edge ${Math.round(r.right)}px)`);
      }
    }
    return { scrollWidth: root.scrollWidth, clientWidth: width, widest };
  });
}

// Roles of things a person operates; each needs a name a screen reader can say.
const controlRoles = new Set([
  "button",
  "link",
  "textbox",
  "searchbox",
  "combobox",
  "listbox",
  "checkbox",
  "radio",
  "switch",
  "slider",
  "spinbutton",
  "menuitem",
  "tab",
  "option",
]);

interface AXNode {
  ignored: boolean;
  role?: { value?: string };
  name?: { value?: string };
  backendDOMNodeId?: number;
}

// Controls in Chromium's accessibility tree (hidden ones are not in it) with no name.
export async function unnamedControls(page: Page): Promise<string[]> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { nodes } = (await cdp.send("Accessibility.getFullAXTree")) as { nodes: AXNode[] };
    await cdp.send("DOM.getDocument", { depth: 0 }); // backend node ids resolve after this
    const out: string[] = [];
    for (const n of nodes) {
      const role = n.role?.value ?? "";
      if (n.ignored || !controlRoles.has(role)) continue;
      if ((n.name?.value ?? "").trim() !== "") continue;
      let html = "";
      if (n.backendDOMNodeId !== undefined) {
        const r = (await cdp.send("DOM.getOuterHTML", { backendNodeId: n.backendDOMNodeId }).catch(() => null)) as {
          outerHTML: string;
        } | null;
        html = (r?.outerHTML ?? "").slice(0, 160);
      }
      out.push(`${role} without a name: ${html}`);
    }
    return out;
  } finally {
    await cdp.detach();
  }
}
