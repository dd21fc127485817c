import { Test } from '@nestjs/testing';

/**
 * A Nest app of `imports` and `providers`, initialised (its lifecycle hooks run); closed
 * again if its initialisation fails, and the error thrown.
 */
export async function startApp(imports: unknown[], providers: unknown[] = []) {
  const moduleRef = await Test.createTestingModule({
    imports: imports as never[],
    providers: providers as never[],
  }).compile();
  const application = moduleRef.createNestApplication({ logger: false });
  try {
    await application.init();
  } catch (error) {
    await application.close();
    throw error;
  }
  return application;
}
