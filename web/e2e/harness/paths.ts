// Where things are: the repository, the grok binary under test, Chromium, the artifacts folder.
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const webRoot = path.resolve(here, "../..");
export const repoRoot = path.resolve(webRoot, "..");
export const grokBinary = process.env.GROK_BIN ?? path.join(repoRoot, "build/dev/grok");
export const chromiumPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
export const artifactsDir = path.join(webRoot, "e2e-artifacts");
