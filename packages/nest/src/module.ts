import { Global, Inject, Module, type DynamicModule, type InjectionToken, type ModuleMetadata, type OnApplicationShutdown, type OptionalFactoryDependency, type Provider } from '@nestjs/common';
import { APP_FILTER, ModulesContainer } from '@nestjs/core';
import { createKeyward, fieldsOf, isKeyward, refuseUnknownInput, type Keyward, type KeywardOptions } from '@keyward/core';
import { KeywardExceptionFilter } from './exception';
import { KeywardGuard } from './guard';
import { KEYWARD } from './tokens';

/** Module-level choices, besides keyward's own options. */
export interface KeywardModuleOptions {
  /**
   * Register {@link KeywardExceptionFilter} globally (default true), so denials go out as the core decided
   * (`application/problem+json`). Set `false` to render `KeywardException`s with your own filter.
   */
  exceptionFilter?: boolean;
}

/** Options of {@link KeywardModule.forRootAsync}. */
export interface KeywardModuleAsyncOptions extends KeywardModuleOptions {
  /** Modules whose providers the factory needs. */
  imports?: ModuleMetadata['imports'];
  /** Providers to inject into the factory, in order. */
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  /** Returns keyward's options or an instance. */
  useFactory: (...args: any[]) => KeywardOptions | Keyward | Promise<KeywardOptions | Keyward>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * The instances one `forRoot()`/`forRootAsync()` created from options (and therefore closes on shutdown), kept per
 * call: an instance passed in stays its owner's, even when another module created it (`forRoot(app1.get(KEYWARD))`
 * in a second application must not close the first application's instance).
 */
const OWNED = Symbol('keyward:owned');

function instanceOf(optionsOrInstance: KeywardOptions | Keyward | undefined, owned: WeakSet<Keyward>): Keyward {
  if (isKeyward(optionsOrInstance)) return optionsOrInstance;
  const kw = createKeyward(optionsOrInstance === undefined ? {} : optionsOrInstance); // null is refused, as apiKeyAuth(null) is
  owned.add(kw);
  return kw;
}

/** The instance `forRoot()` created from options, provided to the first application of its module. */
const CREATED = Symbol('keyward:created');

/**
 * The providers of `forRoot()`. From options, each application gets an instance of its own, which it closes on
 * shutdown: the first is created now (so a mistake in the options throws at once), later ones when another application
 * of the same module starts (an e2e suite creating an app per test from one `AppModule`), which would otherwise get
 * the instance the previous app closed and answer every request with a 500.
 */
function rootProviders(optionsOrInstance: KeywardOptions | Keyward | undefined): Provider[] {
  const owned = new WeakSet<Keyward>();
  if (isKeyward(optionsOrInstance)) return [{ provide: KEYWARD, useValue: optionsOrInstance }, { provide: OWNED, useValue: owned }];
  let taken = false;
  const made = (created: Keyward): Keyward => {
    if (taken) return instanceOf(optionsOrInstance, owned);
    taken = true;
    return created;
  };
  // The created instance is a provider of its own so the module still holds it as a value, as Nest's `deep-hash`
  // module ids expect (two forRoot() calls with different options stay two modules).
  return [{ provide: CREATED, useValue: instanceOf(optionsOrInstance, owned) }, { provide: KEYWARD, useFactory: made, inject: [CREATED] }, { provide: OWNED, useValue: owned }];
}

const MODULE_FIELDS = fieldsOf<KeywardModuleOptions>({ exceptionFilter: true });
const ASYNC_FIELDS = fieldsOf<KeywardModuleAsyncOptions>({ exceptionFilter: true, imports: true, inject: true, useFactory: true });

/** The module-level options, checked: an unknown field is refused (a misspelt `exceptionFilter` must not be ignored). */
function checked<T extends KeywardModuleOptions>(options: T, known: readonly string[], call: string): T {
  refuseUnknownInput(options, known, call);
  if (options.exceptionFilter !== undefined && typeof options.exceptionFilter !== 'boolean') throw new TypeError('keyward: option "exceptionFilter" must be a boolean');
  return options;
}

function dynamic(providers: Provider[], options: KeywardModuleOptions, imports: ModuleMetadata['imports'] = []): DynamicModule {
  const filter = options.exceptionFilter === false ? [] : [{ provide: APP_FILTER, useClass: KeywardExceptionFilter }];
  return { module: KeywardModule, global: true, imports, providers: [...providers, KeywardGuard, ...filter], exports: [KEYWARD, KeywardGuard] };
}

/** The instance each application was given, by its modules container: a second, different one is refused. */
const PROVIDED = new WeakMap<ModulesContainer, Keyward>();

/**
 * Provides one keyward instance to the whole application (global module), injectable with `@InjectKeyward()`,
 * and `KeywardGuard`. The instance is closed on application shutdown when the module created it.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [KeywardModule.forRoot({ publicPaths: ['/health'] })],
 *   providers: [{ provide: APP_GUARD, useClass: KeywardGuard }],
 * })
 * export class AppModule {}
 * ```
 */
@Global()
@Module({})
export class KeywardModule implements OnApplicationShutdown {
  /** @throws TypeError at start-up when the application imports a second `KeywardModule` with another instance */
  constructor(@Inject(KEYWARD) private readonly keyward: Keyward, @Inject(ModulesContainer) modules: ModulesContainer, @Inject(OWNED) private readonly owned: WeakSet<Keyward>) {
    const other = PROVIDED.get(modules);
    // Both would be global: the guard and each @InjectKeyward() would get either one, so keys made through one were
    // refused by the guard of the other.
    if (other !== undefined && other !== keyward) throw new TypeError('keyward: KeywardModule.forRoot()/forRootAsync() is imported twice in one application, with two instances; import it once, in the root module (it is global), and inject the instance elsewhere with @InjectKeyward()');
    PROVIDED.set(modules, keyward);
  }

  /**
   * From keyward's options (checked now: a mistake throws a `TypeError` naming the option) or an instance. From
   * options, each application of the module gets an instance of its own, closed on its shutdown.
   */
  static forRoot(optionsOrInstance?: KeywardOptions | Keyward, options: KeywardModuleOptions = {}): DynamicModule {
    checked(options, MODULE_FIELDS, 'KeywardModule.forRoot()');
    return dynamic(rootProviders(optionsOrInstance), options);
  }

  /** From a factory, e.g. reading `ConfigService`. */
  static forRootAsync(options: KeywardModuleAsyncOptions): DynamicModule {
    // Unknown fields first: `{ useClass }` or `{ useExisting }` (Nest's other async forms) is named as such, not as a
    // missing `useFactory`.
    const { useFactory, inject = [], imports } = checked(options, ASYNC_FIELDS, 'KeywardModule.forRootAsync()');
    if (typeof useFactory !== 'function') throw new TypeError('keyward: option "useFactory" must be a function');
    const owned = new WeakSet<Keyward>();
    const made = async (...args: unknown[]): Promise<Keyward> => {
      const result: unknown = await useFactory(...args);
      // Nothing returned is a slip (a missing `return`), not a wish for defaults: it would run a fresh in-memory
      // instance that knows no key.
      if (result === undefined || result === null) throw new TypeError(`keyward: option "useFactory" must return keyward options or an instance from createKeyward() (it returned ${String(result)})`);
      return instanceOf(result as KeywardOptions | Keyward, owned);
    };
    return dynamic([{ provide: KEYWARD, useFactory: made, inject }, { provide: OWNED, useValue: owned }], options, imports);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.owned.has(this.keyward)) await this.keyward.close();
  }
}
