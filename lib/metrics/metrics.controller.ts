import { Controller, Get, Inject, Res, type Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { DelayedMetrics } from './delayed-metrics.js';

/**
 * A controller serving the registry at `GET <path>`, made per module since a route's path is
 * fixed when its class is declared. It goes through Nest's router, so global prefixes,
 * guards and interceptors apply to it as to any route; it works on Express and Fastify.
 */
export function metricsController(path: string): Type {
  @Controller()
  class DelayedMetricsController {
    constructor(
      @Inject(DelayedMetrics) private readonly metrics: DelayedMetrics,
      @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    ) {}

    @Get(path)
    async scrape(@Res({ passthrough: true }) response: unknown): Promise<string> {
      const { registry } = this.metrics;
      const text = await registry.metrics();
      this.adapterHost.httpAdapter.setHeader(response, 'Content-Type', registry.contentType);
      return text;
    }
  }
  return DelayedMetricsController;
}
