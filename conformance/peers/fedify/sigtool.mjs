// Fedify 1.x (Node 20): draft-cavage only.
// The signature tool itself is ../sigtool-core.mjs; this file supplies this folder's Fedify.
import { Temporal } from "@js-temporal/polyfill";
import * as fedify from "@fedify/fedify";

import { runSigtool } from "../sigtool-core.mjs";

await runSigtool(fedify, Temporal);
