import { Inject } from '@nestjs/common';

/** Injection token of the keyward instance provided by `KeywardModule` (named like the `Keyward` interface). */
export const KEYWARD = Symbol('KEYWARD');

/**
 * Injects the keyward instance, e.g. to create or revoke keys from a service.
 *
 * @example
 * ```ts
 * @Injectable()
 * class KeysService {
 *   constructor(@InjectKeyward() private readonly kw: Keyward) {}
 *   issue(owner: string) { return this.kw.keys.create({ owner, scopes: ['docs:read'] }); }
 * }
 * ```
 */
export const InjectKeyward = (): ParameterDecorator & PropertyDecorator => Inject(KEYWARD);

/** Metadata keys read by `KeywardGuard` (through `Reflector.getAllAndOverride`, handler before class). */
export const SCOPES_METADATA = 'keyward:scopes';
/** @see SCOPES_METADATA */
export const PUBLIC_METADATA = 'keyward:public';
/** @see SCOPES_METADATA */
export const COST_METADATA = 'keyward:cost';
