// Compiles the AssemblyScript sources (src/**/wasm/*.ts, which tsc does not see) to WebAssembly next to
// the compiled JavaScript that loads them: src/prefilter/wasm/teddy.ts -> dist/src/prefilter/teddy.wasm.
import { mkdirSync } from "node:fs";
import asc from "assemblyscript/asc";

const modules = [["src/prefilter/wasm/teddy.ts", "dist/src/prefilter/teddy.wasm"]];

for (const [source, output] of modules) {
  mkdirSync(output.slice(0, output.lastIndexOf("/")), { recursive: true });
  const { error, stderr } = await asc.main([
    source,
    "--outFile",
    output,
    "-O3",
    "--runtime",
    "stub",
    "--noAssert",
    "--enable",
    "simd",
    "--importMemory",
  ]);
  if (error) {
    console.error(stderr.toString());
    process.exit(1);
  }
}
