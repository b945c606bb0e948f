/**
 * Set-up of the "conformance on Redis" Jest project (see `stores.ts`): opens the file's Redis connection before its
 * scenarios and, after them, deletes what they wrote and closes it.
 */
import { closeConformanceStores, openConformanceStores } from './stores';

beforeAll(openConformanceStores);
afterAll(closeConformanceStores);
