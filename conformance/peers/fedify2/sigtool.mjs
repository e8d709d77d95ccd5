// Fedify 2.x (RFC 9421 as well as draft-cavage). Run it with node_modules/.bin/node (Node 22).
// The signature tool itself is ../sigtool-core.mjs; this file supplies this folder's Fedify.
import { Temporal } from "@js-temporal/polyfill";
import * as fedify from "@fedify/fedify";

import { runSigtool } from "../sigtool-core.mjs";

await runSigtool(fedify, Temporal);
