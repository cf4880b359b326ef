/**
 * The schemas in lambda/ use `zod/mini`, zod's functional API: the same parser at a fraction of
 * the cost to load and build (SPEC §14, issue 20: the classic API costs the receiver's INIT
 * ~25 ms more CPU and its entry ~50 KiB more). Unlike `zod`, it installs no messages of its
 * own; these are zod's English ones, which `zod` installs, so every issue reads as it did.
 * Imported for this side effect by each module that parses.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());
