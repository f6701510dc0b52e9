// tsc does not copy JSON data that is loaded at run time; copy it next to the compiled code.
import { copyFileSync, mkdirSync } from "node:fs";

mkdirSync("dist/src/schema", { recursive: true });
copyFileSync("src/schema/ecs-types.json", "dist/src/schema/ecs-types.json");
