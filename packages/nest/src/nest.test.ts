import 'reflect-metadata';
import { Catch, Controller, Get, HttpException, Inject, Injectable, Module, Post, Req, RequestMethod, Res, StreamableFile, UseGuards, type ArgumentsHost, type ExceptionFilter, type INestApplication, type MiddlewareConsumer, type NestApplicationOptions, type NestModule, type Type } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { APP_FILTER, APP_GUARD, ExternalContextCreator, NestFactory, type AbstractHttpAdapter } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test, type TestingModule } from '@nestjs/testing';
import type { Response } from 'express';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import request from 'supertest';
import { createKeyward, manualClock, type Endpoint, type Keyward, type KeywardEvent, type Principal } from '@keyward/core';
import { Auth, Cost, endpoint, InjectKeyward, KEYWARD, KeywardException, KeywardGuard, KeywardModule, Public, Scopes } from './index';

@Injectable()
class KeysService {
  constructor(@InjectKeyward() readonly kw: Keyward) {}
  issue(scopes: string[]) {
    return this.kw.keys.create({ owner: 'acme', scopes });
  }
}

@Controller('docs')
@Scopes('docs:read')
class DocsController {
  @Get()
  list(@Auth() caller: Principal) {
    return { id: caller.id, owner: caller.owner };
  }

  @Post()
  @Scopes('docs:write')
  create() {
    return { created: true };
  }

  @Get('both')
  @Scopes('(docs:read OR docs:write) AND users:view')
  both() {
    return 'both';
  }

  @Get('heavy')
  @Cost(3)
  heavy() {
    return 'heavy';
  }

  @Get('public')
  @Public()
  open(@Auth() caller: Principal | undefined) {
    return { caller: caller ?? null };
  }

  @Get('stream')
  stream(@Inject(KEYWARD) _unused: unknown) {
    return 'x'.repeat(777);
  }
}

@Controller('open')
@Public()
class OpenController {
  @Get()
  index(@Auth() caller: Principal | undefined) {
    return { caller: caller ?? null };
  }

  @Get('admin')
  @Scopes('admin')
  admin(@Auth() caller: Principal) {
    return { id: caller.id };
  }
}

@Controller()
class HealthController {
  @Get('health')
  health(@Auth() caller: Principal | undefined) {
    return { ok: true, caller: caller ?? null };
  }
}

const echo: Endpoint = async (r) => ({ status: 200, headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }, body: JSON.stringify({ path: r.path, body: r.body === undefined ? null : r.body.toString() }) });

class EndpointsModule implements NestModule {
  configure(consumer: MiddlewareConsumer) {
    consumer.apply(endpoint(echo)).forRoutes({ path: 'oauth/token', method: RequestMethod.POST });
  }
}
Module({})(EndpointsModule);

/** One of Nest's HTTP platforms: every test of the first suite runs on each. */
interface Platform {
  readonly name: string;
  /** A new HTTP adapter, or `undefined` for Nest's default (Express). */
  adapter(): AbstractHttpAdapter | undefined;
  /** Answers JSON through the platform's response object, as a user's exception filter would. */
  json(res: unknown, status: number, body: unknown): void;
}

const PLATFORMS: readonly Platform[] = [
  { name: 'Express', adapter: () => undefined, json: (res, status, body) => void (res as Response).status(status).json(body) },
  { name: 'Fastify', adapter: () => new FastifyAdapter(), json: (res, status, body) => void (res as FastifyReply).status(status).send(body) },
];

/** Initializes an app; on Fastify, also waits until Fastify is ready to answer (as its `listen()` would). */
async function ready<T extends INestApplication>(app: T): Promise<T> {
  await app.init();
  if (app.getHttpAdapter().getType() === 'fastify') await (app.getHttpAdapter().getInstance() as { ready(): PromiseLike<unknown> }).ready();
  return app;
}

/** Creates and initializes an app of `module` on a platform. */
async function create(platform: Platform, module: Type, options: NestApplicationOptions = {}, before?: (app: INestApplication) => void): Promise<INestApplication> {
  const adapter = platform.adapter();
  const all = { logger: process.env.NEST_LOG ? undefined : (false as const), ...options };
  const app = adapter ? await NestFactory.create(module, adapter, all) : await NestFactory.create(module, all);
  before?.(app);
  return ready(app);
}

describe.each(PLATFORMS)('@keyward/nest on $name', (platform) => {
  async function start(imports: unknown[], extra: { providers?: unknown[]; controllers?: unknown[]; rawBody?: boolean; before?: (app: INestApplication) => void } = {}) {
    @Module({
      imports: [...(imports as never[]), EndpointsModule],
      controllers: (extra.controllers ?? [DocsController, HealthController, OpenController]) as never[],
      providers: [KeysService, { provide: APP_GUARD, useClass: KeywardGuard }, ...((extra.providers ?? []) as never[])],
    })
    class AppModule {}
    return create(platform, AppModule, extra.rawBody ? { rawBody: true } : {}, extra.before);
  }

  let app: INestApplication;
  let kw: Keyward;
  let key: string;
  let keyId: string;
  const clock = manualClock(Date.parse('2026-06-01T12:00:00Z'));

  beforeAll(async () => {
    app = await start([KeywardModule.forRoot({ clock, publicPaths: ['/health'] })]);
    kw = app.get<Keyward>(KEYWARD);
    const created = await app.get(KeysService).issue(['docs:read']);
    key = created.key;
    keyId = created.record.id;
  });
  afterAll(async () => {
    await app.close();
  });
  const http = () => request(app.getHttpServer());

  it('injects the instance: a service creates keys the guard accepts, and @Auth() gives the principal', async () => {
    const res = await http().get('/docs').set('X-API-Key', key);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: keyId, owner: 'acme' });
  });

  it('answers a denial as the core decided: status, headers, problem+json', async () => {
    const res = await http().get('/docs');
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.headers['www-authenticate']).toBe('Bearer realm="keyward"');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(res.text)).toMatchObject({ status: 401, code: 'CREDENTIALS_MISSING' });
  });

  it('reads @Scopes from handler over controller', async () => {
    expect((await http().post('/docs').set('X-API-Key', key)).status).toBe(403);
    const both = await http().get('/docs/both').set('X-API-Key', key);
    expect(both.status).toBe(403);
    expect(both.headers['www-authenticate']).toContain('scope="docs:read docs:write users:view"');
    const writer = await kw.keys.create({ owner: 'acme', scopes: ['docs:write'] });
    expect((await http().post('/docs').set('X-API-Key', writer.key)).status).toBe(201);
    expect((await http().get('/docs').set('X-API-Key', writer.key)).status).toBe(403);
  });

  it('@Scopes() on a handler of a @Public() controller protects that handler: the handler wins', async () => {
    expect((await http().get('/open')).body).toEqual({ caller: null });
    expect((await http().get('/open/admin')).status).toBe(401);
    expect((await http().get('/open/admin').set('X-API-Key', key)).status).toBe(403);
    const admin = await kw.keys.create({ owner: 'acme', scopes: ['admin'] });
    expect((await http().get('/open/admin').set('X-API-Key', admin.key)).body).toEqual({ id: admin.record.id });
  });

  it('a controller extending another: its own @Scopes() protects what a @Public() base opened, and @Public() opens a @Scopes() base', async () => {
    @Controller('base')
    @Public()
    class OpenBase {
      @Get()
      index(@Auth() caller: Principal | undefined) {
        return { caller: caller?.id ?? null };
      }
    }
    @Controller('admin-area')
    @Scopes('admin')
    class AdminArea extends OpenBase {
      @Get('users')
      users(@Auth() caller: Principal) {
        return { id: caller.id };
      }
    }
    @Controller('inherits-open')
    class InheritsOpen extends OpenBase {}
    @Controller('opened')
    @Public()
    class Opened extends DocsController {}
    const a = await start([KeywardModule.forRoot()], { controllers: [AdminArea, InheritsOpen, Opened] });
    const own = a.get<Keyward>(KEYWARD);
    const reader = await own.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    const admin = await own.keys.create({ owner: 'acme', scopes: ['admin'] });
    for (const path of ['/admin-area', '/admin-area/users']) {
      expect((await request(a.getHttpServer()).get(path)).status).toBe(401);
      expect((await request(a.getHttpServer()).get(path).set('X-API-Key', reader.key)).status).toBe(403);
    }
    expect((await request(a.getHttpServer()).get('/admin-area/users').set('X-API-Key', admin.key)).body).toEqual({ id: admin.record.id });
    expect((await request(a.getHttpServer()).get('/inherits-open')).body).toEqual({ caller: null });
    expect((await request(a.getHttpServer()).get('/opened/heavy')).text).toBe('heavy');
    await a.close();
  });

  it('lets @Public() handlers, public paths and preflights through without a credential', async () => {
    expect((await http().get('/docs/public')).body).toEqual({ caller: null });
    expect((await http().get('/health')).body).toEqual({ ok: true, caller: null });
  });

  it('sets the core headers on allowed responses and reports bytes through done()', async () => {
    const events: KeywardEvent[] = [];
    const off = kw.on('request.completed', (e) => { events.push(e); });
    const rotating = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    await kw.keys.rotate(rotating.record.id, { gracePeriod: '1h' });
    const res = await http().get('/docs/stream').set('X-API-Key', rotating.key).set('X-Request-Id', 'nest-done');
    expect(res.status).toBe(200);
    expect(res.headers['deprecation']).toMatch(/^@\d+$/);
    expect(res.headers['sunset']).toBeDefined();
    await new Promise((r) => setTimeout(r, 10));
    await kw.flushEvents();
    off();
    expect(events).toEqual([expect.objectContaining({ requestId: 'nest-done', status: 200, bytes: 777 })]);
  });

  it('answers a store failure with 503 and Retry-After', async () => {
    const other = await start([KeywardModule.forRoot({ cache: false })]);
    const okw = other.get<Keyward>(KEYWARD);
    const { key: k } = await okw.keys.create({ owner: 'o', scopes: ['docs:read'] });
    jest.spyOn(okw.config.store, 'findByHash').mockRejectedValue(new Error('down'));
    const res = await request(other.getHttpServer()).get('/docs').set('X-API-Key', k);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBeDefined();
    expect(JSON.parse(res.text).code).toBe('STORE_UNAVAILABLE');
    await other.close();
  });

  it('serves a core endpoint through endpoint() middleware, with a parsed or a raw body', async () => {
    const res = await http().post('/oauth/token').type('form').send('grant_type=client_credentials&scope=a+b');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({ path: '/oauth/token', body: 'grant_type=client_credentials&scope=a+b' });
    const json = await http().post('/oauth/token').send({ grant_type: 'client_credentials' });
    expect(JSON.parse(json.body.body)).toEqual({ grant_type: 'client_credentials' });
    const raw = await start([KeywardModule.forRoot()], { rawBody: true });
    const r2 = await request(raw.getHttpServer()).post('/oauth/token').type('form').send('a=1&a=2&b[c]=3');
    expect(r2.body.body).toBe('a=1&a=2&b[c]=3');
    await raw.close();
  });

  it('hands the endpoint a form Nest parsed with its parameter names as sent, brackets included', async () => {
    // Nest's form parser (qs) turns `grant_type[]=x` into { grant_type: ['x'] } and `scope[a]=x` into { scope: { a: 'x' } }:
    // re-encoded as `grant_type=x` and `scope={"a":"x"}`, the token endpoint granted a token for a parameter it never
    // got on Fastify (or with rawBody), and refused a scope it would have ignored there.
    const res = await http().post('/oauth/token').type('form').send('grant_type[]=client_credentials&scope[a]=docs:read&x[y][z]=1&b=1&b=2');
    expect(res.status).toBe(200);
    expect([...new URLSearchParams(res.body.body as string)]).toEqual([['grant_type[]', 'client_credentials'], ['scope[a]', 'docs:read'], ['x[y][z]', '1'], ['b', '1'], ['b', '2']]);
  });

  it('forRootAsync: options from an injected provider', async () => {
    @Module({ providers: [{ provide: 'CONFIG', useValue: { publicPaths: ['/docs/both'] } }], exports: ['CONFIG'] })
    class ConfigModule {}
    const a = await start([KeywardModule.forRootAsync({ imports: [ConfigModule], inject: ['CONFIG'], useFactory: (config: { publicPaths: string[] }) => ({ ...config }) })]);
    expect((await request(a.getHttpServer()).get('/docs')).status).toBe(401);
    expect((await request(a.getHttpServer()).get('/docs/both')).status).toBe(200);
    await a.close();
    expect(() => KeywardModule.forRootAsync({} as never)).toThrow(/"useFactory"/);
  });

  it('forRootAsync: a factory that returns nothing fails start-up, naming the option, rather than running an empty instance', async () => {
    for (const result of [undefined, null]) {
      @Module({ imports: [KeywardModule.forRootAsync({ useFactory: async () => result as never })] })
      class AppModule {}
      await expect(create(platform, AppModule, { abortOnError: false })).rejects.toThrow(`keyward: option "useFactory" must return keyward options or an instance from createKeyward() (it returned ${String(result)})`);
    }
  });

  it('closes an instance it created on shutdown, never one passed in', async () => {
    const mine = createKeyward();
    const a = await start([KeywardModule.forRoot(mine)]);
    await a.close();
    await expect(mine.check({ method: 'GET', path: '/', headers: {} })).resolves.toBeDefined();
    const b = await start([KeywardModule.forRoot()]);
    const created = b.get<Keyward>(KEYWARD);
    await b.close();
    await expect(created.check({ method: 'GET', path: '/', headers: {} })).rejects.toMatchObject({ code: 'CLOSED' });
    await mine.close();
  });

  it("under app.setGlobalPrefix('api'), publicPaths name the whole path ('/api/health'), as the README says", async () => {
    for (const [paths, status] of [[['/api/health'], 200], [['/health'], 401]] as const) {
      const a = await start([KeywardModule.forRoot({ publicPaths: [...paths] })], { before: (x) => x.setGlobalPrefix('api') });
      const res = await request(a.getHttpServer()).get('/api/health');
      expect([paths[0], res.status]).toEqual([paths[0], status]);
      await a.close();
    }
  });

  it("never closes an instance passed in, even one another application's module created (forRoot(app1.get(KEYWARD)) in a second app)", async () => {
    const first = await start([KeywardModule.forRoot()]);
    const shared = first.get<Keyward>(KEYWARD);
    for (const imported of [KeywardModule.forRoot(shared), KeywardModule.forRootAsync({ useFactory: () => shared })]) {
      const second = await start([imported]);
      expect(second.get<Keyward>(KEYWARD)).toBe(shared);
      await second.close();
      await expect(shared.check({ method: 'GET', path: '/', headers: {} })).resolves.toBeDefined();
    }
    await first.close();
    await expect(shared.check({ method: 'GET', path: '/', headers: {} })).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('forRoot(options): each application of one module gets an instance of its own, so a second app works after the first closed', async () => {
    // An e2e suite creating an app per test from one AppModule: forRoot() ran once, when the module was decorated.
    @Module({ imports: [KeywardModule.forRoot({ publicPaths: ['/health'] })], controllers: [DocsController], providers: [{ provide: APP_GUARD, useClass: KeywardGuard }] })
    class AppModule {}
    const instances: Keyward[] = [];
    for (let i = 0; i < 2; i++) {
      const a = await create(platform, AppModule);
      const own = a.get<Keyward>(KEYWARD);
      instances.push(own);
      const { key: k } = await own.keys.create({ owner: 'o', scopes: ['docs:read'] });
      const res = await request(a.getHttpServer()).get('/docs').set('X-API-Key', k);
      expect([res.status, res.body.owner]).toEqual([200, 'o']);
      await a.close();
      await expect(own.check({ method: 'GET', path: '/', headers: {} })).rejects.toMatchObject({ code: 'CLOSED' });
    }
    expect(instances[0]).not.toBe(instances[1]);
  });

  it('refuses at start-up a second KeywardModule with another instance (forRoot() in a feature module as well), rather than a guard and services on different instances', async () => {
    @Module({ imports: [KeywardModule.forRoot({ publicPaths: ['/b'] })], providers: [KeysService], exports: [KeysService] })
    class FeatureModule {}
    @Module({ imports: [KeywardModule.forRoot({ publicPaths: ['/a'] }), FeatureModule], controllers: [DocsController], providers: [{ provide: APP_GUARD, useClass: KeywardGuard }] })
    class Twice {}
    await expect(create(platform, Twice, { abortOnError: false })).rejects.toThrow('keyward: KeywardModule.forRoot()/forRootAsync() is imported twice in one application, with two instances');
    // The same instance twice is one instance: nothing to refuse.
    const shared = createKeyward();
    @Module({ imports: [KeywardModule.forRoot(shared)], providers: [KeysService], exports: [KeysService] })
    class SharedFeature {}
    @Module({ imports: [KeywardModule.forRoot(shared), SharedFeature], controllers: [DocsController], providers: [{ provide: APP_GUARD, useClass: KeywardGuard }] })
    class SameTwice {}
    const a = await create(platform, SameTwice);
    const { key: k } = await a.get(KeysService).issue(['docs:read']);
    expect((await request(a.getHttpServer()).get('/docs').set('X-API-Key', k)).status).toBe(200);
    await a.close();
    await shared.close();
  });

  it('works per controller with @UseGuards(KeywardGuard), and deciding once when bound twice', async () => {
    @Controller('guarded')
    @UseGuards(KeywardGuard)
    class GuardedController {
      @Get()
      @Scopes('docs:read')
      @Cost(1)
      get(@Auth() caller: Principal) {
        return { id: caller.id };
      }
    }
    @Controller('free')
    class FreeController {
      @Get()
      get() {
        return 'free';
      }
    }
    const m = createKeyward();
    const { key: k, record } = await m.keys.create({ owner: 'o', scopes: ['docs:read'] });
    const events: KeywardEvent[] = [];
    m.on('auth.succeeded', (e) => { events.push(e); });
    @Module({ imports: [KeywardModule.forRoot(m)], controllers: [GuardedController, FreeController] })
    class PerController {}
    const a = await create(platform, PerController);
    expect((await request(a.getHttpServer()).get('/free')).text).toBe('free');
    expect((await request(a.getHttpServer()).get('/guarded')).status).toBe(401);
    expect((await request(a.getHttpServer()).get('/guarded').set('X-API-Key', k)).body).toEqual({ id: record.id });
    await a.close();
    const b = await start([KeywardModule.forRoot(m)], { controllers: [GuardedController] });
    events.length = 0;
    expect((await request(b.getHttpServer()).get('/guarded').set('X-API-Key', k)).status).toBe(200);
    await m.flushEvents();
    expect(events).toHaveLength(1);
    await b.close();
    await m.close();
  });

  it('a guard of its own after the global one still checks its scopes: decided once, authorized again', async () => {
    @Injectable()
    class AdminGuard extends KeywardGuard {
      protected override route() {
        return { isPublic: false, requirements: { scopes: 'admin' } };
      }
    }
    @Controller('admin')
    @UseGuards(AdminGuard)
    class AdminController {
      @Get()
      get(@Auth() caller: Principal) {
        return { id: caller.id };
      }
    }
    const m = createKeyward();
    const reader = await m.keys.create({ owner: 'o', scopes: ['docs:read'] });
    const admin = await m.keys.create({ owner: 'o', scopes: ['admin'] });
    const events: KeywardEvent[] = [];
    m.on('auth.succeeded', (e) => { events.push(e); });
    const a = await start([KeywardModule.forRoot(m)], { controllers: [AdminController], providers: [AdminGuard] });
    const refused = await request(a.getHttpServer()).get('/admin').set('X-API-Key', reader.key);
    expect([refused.status, refused.body.code]).toEqual([403, 'INSUFFICIENT_SCOPE']);
    expect(refused.headers['www-authenticate']).toContain('scope="admin"');
    expect((await request(a.getHttpServer()).get('/admin').set('X-API-Key', admin.key)).body).toEqual({ id: admin.record.id });
    await m.flushEvents();
    expect(events).toHaveLength(2); // one decision per request
    await a.close();
    await m.close();
  });

  it("hands denials to the application's own HttpException filters", async () => {
    const seen: Array<{ status: number; body: unknown }> = [];
    @Catch(HttpException)
    class MyFilter implements ExceptionFilter {
      catch(e: HttpException, host: ArgumentsHost) {
        seen.push({ status: e.getStatus(), body: e.getResponse() });
        platform.json(host.switchToHttp().getResponse(), e.getStatus(), { mine: true, code: (e as KeywardException).denial?.code });
      }
    }
    const global = await start([KeywardModule.forRoot()], { before: (a) => a.useGlobalFilters(new MyFilter()) });
    const viaGlobal = await request(global.getHttpServer()).get('/docs');
    expect(viaGlobal.status).toBe(401);
    expect(viaGlobal.body).toEqual({ mine: true, code: 'CREDENTIALS_MISSING' });
    expect(viaGlobal.headers['www-authenticate']).toBe('Bearer realm="keyward"');
    expect(seen[0]).toEqual({ status: 401, body: expect.objectContaining({ code: 'CREDENTIALS_MISSING' }) });
    await global.close();
    const provided = await start([KeywardModule.forRoot({}, { exceptionFilter: false })], { providers: [{ provide: APP_FILTER, useClass: MyFilter }] });
    expect((await request(provided.getHttpServer()).get('/docs')).body).toEqual({ mine: true, code: 'CREDENTIALS_MISSING' });
    await provided.close();
  });

  it('works through @nestjs/testing', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [KeywardModule.forRoot()], controllers: [DocsController], providers: [KeysService, { provide: APP_GUARD, useClass: KeywardGuard }] }).compile();
    const adapter = platform.adapter();
    const a = await ready(adapter ? moduleRef.createNestApplication(adapter, { logger: false }) : moduleRef.createNestApplication({ logger: false }));
    const { key: k } = await a.get(KeysService).issue(['docs:read']);
    expect((await request(a.getHttpServer()).get('/docs').set('X-API-Key', k)).status).toBe(200);
    expect((await request(a.getHttpServer()).get('/docs').set('X-API-Key', 'nope')).headers['content-type']).toBe('application/problem+json');
    await a.close();
  });

  it('fails at start-up with a TypeError naming the option', () => {
    expect(() => KeywardModule.forRoot({ prefix: 'BAD PREFIX' })).toThrow(/"prefix"/);
    expect(() => KeywardModule.forRoot(null as never)).toThrow('keyward: options must be an object');
    expect(() => Cost(-1)).toThrow(/"cost"/);
    expect(() => Scopes('a AND')).toThrow(TypeError);
    expect(() => KeywardModule.forRoot({}, { exceptionFilter: 'yes' as never })).toThrow(/"exceptionFilter"/);
    expect(() => KeywardModule.forRoot({ publicPath: ['/docs'] } as never)).toThrow('keyward: unknown option "publicPath" (did you mean "publicPaths"?)');
    expect(() => KeywardModule.forRoot({}, { exceptionFilters: false } as never)).toThrow('keyward: KeywardModule.forRoot() has an unknown field "exceptionFilters" (did you mean "exceptionFilter"? known: exceptionFilter)');
    expect(() => KeywardModule.forRootAsync({ useFactory: () => ({}), injects: [] } as never)).toThrow('keyward: KeywardModule.forRootAsync() has an unknown field "injects" (did you mean "inject"?');
    // Nest's other async forms are not supported: named as what they are, not as a missing useFactory.
    expect(() => KeywardModule.forRootAsync({ useClass: class {} } as never)).toThrow('keyward: KeywardModule.forRootAsync() has an unknown field "useClass" (known: exceptionFilter, imports, inject, useFactory)');
    expect(() => KeywardModule.forRootAsync({ useExisting: 'CONFIG' } as never)).toThrow('keyward: KeywardModule.forRootAsync() has an unknown field "useExisting"');
  });
});

describe('@keyward/nest: what only Fastify has', () => {
  const fastify = PLATFORMS.find((p) => p.name === 'Fastify')!;

  @Controller('f')
  class FastifyController {
    @Get('req')
    req(@Auth() caller: Principal | undefined, @Req() req: FastifyRequest & { auth?: Principal }) {
      return { id: caller?.id ?? null, same: req.auth === caller, fastifyRequest: req.raw !== undefined };
    }

    @Get('mine')
    mine(@Res({ passthrough: true }) reply: FastifyReply) {
      reply.header('X-Mine', '1');
      return 'mine';
    }

    @Get('hijacked')
    hijacked(@Res() reply: FastifyReply) {
      reply.hijack();
      reply.raw.writeHead(200, { 'Content-Type': 'text/plain' });
      reply.raw.end('raw!');
    }

    @Get('file')
    file() {
      return new StreamableFile(Buffer.from('f'.repeat(300)));
    }
  }

  async function start(kw: Keyward, adapter = new FastifyAdapter()) {
    @Module({ imports: [KeywardModule.forRoot(kw)], controllers: [FastifyController], providers: [{ provide: APP_GUARD, useClass: KeywardGuard }] })
    class FastifyModule {}
    return create({ ...fastify, adapter: () => adapter }, FastifyModule);
  }

  it('@Auth() and req.auth are the principal, on the FastifyRequest the handler receives', async () => {
    const kw = createKeyward();
    const { key, record } = await kw.keys.create({ owner: 'o', scopes: [] });
    const app = await start(kw);
    expect((await request(app.getHttpServer()).get('/f/req').set('X-API-Key', key)).body).toEqual({ id: record.id, same: true, fastifyRequest: true });
    await app.close();
    await kw.close();
  });

  it("keyward's headers and done() hold whoever writes the response: a returned value, the reply's own headers, a hijacked raw reply, a file", async () => {
    // The guard sets headers on Node's response (`reply.raw`): Fastify's writeHead merges its own with them, and a
    // hijacked reply never reads the reply's headers at all.
    const kw = createKeyward();
    const events: KeywardEvent[] = [];
    kw.on('request.completed', (e) => { events.push(e); });
    const old = await kw.keys.create({ owner: 'o', scopes: [] });
    await kw.keys.rotate(old.record.id, { gracePeriod: '1h' });
    const app = await start(kw);
    const expected = { '/f/mine': ['mine', 'text/plain; charset=utf-8'], '/f/hijacked': ['raw!', 'text/plain'], '/f/file': ['f'.repeat(300), 'application/octet-stream'] };
    for (const [path, [body, type]] of Object.entries(expected)) {
      const res = await request(app.getHttpServer()).get(path).set('X-API-Key', old.key);
      expect([res.status, res.headers['content-type'], res.text ?? res.body.toString()]).toEqual([200, type, body]);
      expect(res.headers['deprecation']).toMatch(/^@\d+$/);
      expect(res.headers['sunset']).toBeDefined();
      if (path === '/f/mine') expect(res.headers['x-mine']).toBe('1');
    }
    await new Promise((r) => setTimeout(r, 20));
    await kw.flushEvents();
    expect(events.map((e) => [e.path, e.status, e.bytes])).toEqual(Object.entries(expected).map(([path, [body]]) => [path, 200, body!.length]));
    await app.close();
    await kw.close();
  });

  it('reads the URL as the client sent it, query included, when Fastify rewrites it (rewriteUrl)', async () => {
    // FastifyRequest.originalUrl; note that @fastify/middie, once the app has Nest middleware, overwrites it with the
    // rewritten URL before the guard runs (outside keyward).
    const kw = createKeyward({ publicPaths: ['/v1/f/req'] });
    const events: KeywardEvent[] = [];
    kw.on('request.completed', (e) => { events.push(e); });
    const { key } = await kw.keys.create({ owner: 'o', scopes: [] });
    const app = await start(kw, new FastifyAdapter({ rewriteUrl: (req: IncomingMessage) => req.url!.replace(/^\/v1\//, '/') }));
    expect((await request(app.getHttpServer()).get('/v1/f/mine?x=1').set('X-API-Key', key)).status).toBe(200);
    expect((await request(app.getHttpServer()).get('/v1/f/mine')).status).toBe(401);
    expect((await request(app.getHttpServer()).get('/v1/f/req')).body).toEqual({ id: null, same: true, fastifyRequest: true }); // public by the client's URL
    await new Promise((r) => setTimeout(r, 20));
    await kw.flushEvents();
    expect(events.map((e) => e.path)).toEqual(['/v1/f/mine?x=1']);
    await app.close();
    await kw.close();
  });
});

describe('@keyward/nest: contexts other than HTTP (RPC, WebSockets)', () => {
  // Only HTTP is guarded: any other context is refused unless @Public() (on the handler or its class).
  class EventsHandler {
    plain(_data: unknown) {
      return 'plain';
    }

    @Public()
    open(_data: unknown) {
      return 'open';
    }
  }

  @Public()
  class OpenHandler {
    any(_data: unknown) {
      return 'any';
    }
  }

  let moduleRef: TestingModule;
  let guard: KeywardGuard;
  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({ imports: [KeywardModule.forRoot()] }).compile();
    guard = moduleRef.get(KeywardGuard);
  });
  afterAll(async () => {
    await moduleRef.close();
  });

  /** The context Nest builds for a message or event handler of `type`. */
  const context = (type: 'rpc' | 'ws', cls: Type, handler: (data: unknown) => unknown) => {
    const ctx = new ExecutionContextHost(type === 'rpc' ? [{ docs: 1 }, {}] : [{}, { docs: 1 }], cls, handler);
    ctx.setType(type);
    return ctx;
  };

  it.each(['rpc', 'ws'] as const)('refuses a %s handler without @Public()', async (type) => {
    expect(await guard.canActivate(context(type, EventsHandler, EventsHandler.prototype.plain))).toBe(false);
  });

  it.each(['rpc', 'ws', 'graphql'] as const)('@Auth() is undefined in a %s handler, never a field of what the client sent', async (type) => {
    // ExternalContextCreator is how @nestjs/microservices, websockets and graphql call handlers (with guards and
    // param decorators); its first argument is the message payload (RPC), the client (WebSockets) or the parent object
    // (GraphQL), not an authenticated request.
    @Injectable()
    class Handlers {
      @Public()
      open(@Auth() caller: Principal | undefined) {
        return { caller: caller ?? null };
      }
    }
    const ref = await Test.createTestingModule({ imports: [KeywardModule.forRoot()], providers: [Handlers, { provide: APP_GUARD, useClass: KeywardGuard }] }).compile();
    const handlers = ref.get(Handlers);
    const call = ref.get(ExternalContextCreator).create(handlers, handlers.open as (...args: unknown[]) => unknown, 'open', ROUTE_ARGS_METADATA, { exchangeKeyForValue: () => undefined }, undefined, undefined, undefined, type);
    expect(await call({ auth: { id: 'admin', owner: 'acme', scopes: ['*'] } }, {}, {})).toEqual({ caller: null });
    await ref.close();
  });

  it.each(['rpc', 'ws'] as const)('lets a %s handler marked @Public() through, on the handler or its class', async (type) => {
    expect(await guard.canActivate(context(type, EventsHandler, EventsHandler.prototype.open))).toBe(true);
    expect(await guard.canActivate(context(type, OpenHandler, OpenHandler.prototype.any))).toBe(true);
  });
});
