/** @jest-config-loader esbuild-register */
import type { Config } from 'jest';

const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j|mj)sx?$': ['@swc/jest', {}] },
  // @opentelemetry's exporters load node:http with import(), which jest runs only once transformed.
  transformIgnorePatterns: ['/node_modules/(?!(@middy|@opentelemetry)/)'],
  testTimeout: 20000,
};

export default config;
