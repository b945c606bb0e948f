/**
 * Options contributed by the optional capabilities (tokens, limits, restrictions, monitoring). Each capability
 * declares its own interface in its folder and adds it here.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface FeatureOptions {}
