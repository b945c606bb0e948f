/** `pg8_11` is `pg@8.11.0` installed under another name (the lowest of the peer range); its API as used here is the current pg's. */
declare module 'pg8_11' {
  export { Pool } from 'pg';
}
