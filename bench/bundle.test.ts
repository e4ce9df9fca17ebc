/** The bundle bench's reading of a build: what index.html loads by itself, and the chunks those
 * import statically (the lazy ones left out). */
import { describe, expect, test } from "vitest";
import { BundleShapeError, htmlScripts, staticClosure, type ViteManifest } from "./bundle";

const HTML = `<!doctype html><html><head>
<script type="module" crossorigin src="/assets/index-A1.js"></script>
<link rel="modulepreload" crossorigin href="/assets/vendor-B2.js">
<link rel="stylesheet" crossorigin href="/assets/index-C3.css">
<link rel="icon" href="/favicon.svg">
<script src="https://example.org/analytics.js"></script>
</head><body><div id="root"></div></body></html>`;

const MANIFEST: ViteManifest = {
  "src/main.tsx": { file: "assets/index-A1.js", isEntry: true, imports: ["_vendor-B2.js", "_shared-D4.js"], dynamicImports: ["src/Operator.tsx"] },
  "_vendor-B2.js": { file: "assets/vendor-B2.js" },
  "_shared-D4.js": { file: "assets/shared-D4.js", imports: ["_vendor-B2.js"] },
  "src/Operator.tsx": { file: "assets/Operator-E5.js", imports: ["_shared-D4.js", "_chart-F6.js"] },
  "_chart-F6.js": { file: "assets/chart-F6.js" },
};

describe("bundle: the first screen", () => {
  test("module scripts and modulepreloads of the built page, not CSS, icons or other origins", () => {
    expect(htmlScripts(HTML)).toEqual(["assets/index-A1.js", "assets/vendor-B2.js"]);
  });

  test("static imports count, dynamic ones do not", () => {
    const files = staticClosure({ manifest: MANIFEST, start: htmlScripts(HTML) }).sort();
    expect(files).toEqual(["assets/index-A1.js", "assets/shared-D4.js", "assets/vendor-B2.js"]);
    expect(files).not.toContain("assets/Operator-E5.js");
    expect(files).not.toContain("assets/chart-F6.js");
  });

  test("a manifest that names an import it does not hold is an error, not a smaller figure", () => {
    const broken: ViteManifest = { "src/main.tsx": { file: "assets/index-A1.js", imports: ["_gone.js"] } };
    expect(() => staticClosure({ manifest: broken, start: ["assets/index-A1.js"] })).toThrow(BundleShapeError);
  });
});
