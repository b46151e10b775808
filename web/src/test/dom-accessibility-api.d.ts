// Types for dom-accessibility-api (a dependency of @testing-library/dom): its package "exports"
// hide its own .d.ts from TypeScript's bundler resolution, so the one function we use is declared here.
declare module "dom-accessibility-api" {
  export function computeAccessibleName(root: Element, options?: Record<string, unknown>): string;
}
