/** `ioredis5_4` is `ioredis@5.4.0` installed under another name (the lowest of the peer range); its API as used here is the current ioredis's. */
declare module 'ioredis5_4' {
  import Redis from 'ioredis';
  export default Redis;
}
