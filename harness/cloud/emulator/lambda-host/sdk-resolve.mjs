// Module resolve hook for node-host.mjs: a bare specifier the handler's own folder cannot resolve
// (`@aws-sdk/client-iot`, `aws-sdk`) resolves from zt-hil's node_modules, as Lambda's runtime provides
// the SDK to ESM handlers.
let fallback;

export async function initialize(data) {
  fallback = data.fallback;
}

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (err) {
    if (!fallback || specifier.startsWith(".") || specifier.startsWith("/") || specifier.includes(":")) throw err;
    return next(specifier, { ...context, parentURL: new URL(`file://${fallback}/`).href });
  }
}
