/** `koa3_0` is `koa@3.0.0` installed under another name (the lowest of the peer range); its API as used here is the current Koa's. */
declare module 'koa3_0' {
  import Koa from 'koa';
  export default Koa;
}
