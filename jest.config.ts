/** @jest-config-loader esbuild-register */
import type { Config } from 'jest';

const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j|mj)sx?$': ['@swc/jest', {}] },
  transformIgnorePatterns: ['/node_modules/(?!(@middy)/)'],
  testTimeout: 20000,
};

export default config;
