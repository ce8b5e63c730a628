import { registerHooks } from 'node:module';

/**
 * Import this before anything that loads drizzle-orm (a service's main.ts does, then imports the rest dynamically).
 *
 * Node 24 asks for the package scope of every `.js` module it resolves, and building that answer parses the
 * package's whole "exports" map again each time (get_format.js → getPackageScopeConfig, which spreads the lazily
 * parsed fields). drizzle-orm has about 450 modules and a 179 KB exports map, so importing it allocated some 200 MB,
 * which V8 then kept as the service's resident memory. Node 26 does the same.
 *
 * drizzle-orm's ESM build is one "type": "module" package whose modules import each other by relative `.js` paths:
 * those imports resolve to ES modules without asking Node for their format. Everything else resolves as usual.
 */
const drizzleRoot = new URL('./', import.meta.resolve('drizzle-orm')).href;

const isRelativeJs = (specifier: string): boolean =>
  (specifier.startsWith('./') || specifier.startsWith('../')) && specifier.endsWith('.js');

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (context.parentURL?.startsWith(drizzleRoot) && isRelativeJs(specifier)) {
      return { url: new URL(specifier, context.parentURL).href, format: 'module', shortCircuit: true };
    }
    return nextResolve(specifier, context);
  },
});
