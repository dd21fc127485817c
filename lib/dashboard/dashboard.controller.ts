import {
  applyDecorators,
  BadRequestException,
  Body,
  Controller,
  ForbiddenException,
  Get,
  Header,
  Headers,
  HttpCode,
  HttpException,
  Inject,
  Param,
  Post,
  Query,
  ServiceUnavailableException,
  type Type,
  UnsupportedMediaTypeException,
  UseGuards,
} from '@nestjs/common';
import { InvalidOptionsError, RedisUnavailableError } from '../core/index.js';
import { dashboardPage } from './dashboard-page.js';
import type { ResolvedDashboardOptions } from './dashboard.options.js';
import { MAX_PAGE_SIZE } from './dashboard.views.js';
import type { QueueDashboard } from './queue-dashboard.js';

/** A page's size when the request names none. */
const DEFAULT_PAGE_SIZE = 25;

/** Headers of every API answer: never cached (it is live data), never sniffed as HTML. */
const ApiAnswer = () =>
  applyDecorators(Header('Cache-Control', 'no-store'), Header('X-Content-Type-Options', 'nosniff'));

type RequestHeaders = Record<string, string | string[] | undefined>;

/**
 * The dashboard's routes: the page, and its JSON API under `api/`. Not a controller itself:
 * `mountDashboardController` makes one subclass per mount, with the mount's path and guards,
 * so two dashboards in one app never share metadata.
 */
export abstract class DashboardController {
  constructor(private readonly dashboard: QueueDashboard) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', dashboardPage.contentSecurityPolicy)
  @Header('Cache-Control', 'no-store')
  @Header('X-Content-Type-Options', 'nosniff')
  @Header('Referrer-Policy', 'no-referrer')
  page(): string {
    return dashboardPage.html;
  }

  @Get('api/queues')
  @ApiAnswer()
  overview() {
    return this.run(() => this.dashboard.overview());
  }

  @Get('api/queues/:queue/running')
  @ApiAnswer()
  running(
    @Param('queue') queue: string,
    @Query('cursor') cursor: unknown,
    @Query('limit') limit: unknown,
  ) {
    return this.run(() => this.dashboard.running(queue, parseCursor(cursor), parseLimit(limit)));
  }

  @Get('api/queues/:queue/waiting')
  @ApiAnswer()
  waiting(
    @Param('queue') queue: string,
    @Query('offset') offset: unknown,
    @Query('limit') limit: unknown,
  ) {
    return this.run(() => this.dashboard.waiting(queue, parseOffset(offset), parseLimit(limit)));
  }

  @Get('api/queues/:queue/scheduled')
  @ApiAnswer()
  scheduled(
    @Param('queue') queue: string,
    @Query('offset') offset: unknown,
    @Query('limit') limit: unknown,
  ) {
    return this.run(() => this.dashboard.scheduled(queue, parseOffset(offset), parseLimit(limit)));
  }

  @Get('api/queues/:queue/schedules')
  @ApiAnswer()
  schedules(
    @Param('queue') queue: string,
    @Query('cursor') cursor: unknown,
    @Query('limit') limit: unknown,
  ) {
    return this.run(() => this.dashboard.schedules(queue, parseCursor(cursor), parseLimit(limit)));
  }

  @Get('api/queues/:queue/dead')
  @ApiAnswer()
  dead(
    @Param('queue') queue: string,
    @Query('offset') offset: unknown,
    @Query('limit') limit: unknown,
  ) {
    return this.run(() =>
      this.dashboard.deadLetters(queue, parseOffset(offset), parseLimit(limit)),
    );
  }

  @Post('api/queues/:queue/dead/requeue')
  @HttpCode(200)
  @ApiAnswer()
  requeueDead(
    @Param('queue') queue: string,
    @Body() body: unknown,
    @Headers() headers: RequestHeaders,
  ) {
    return this.action(headers, () => {
      const { offset, ref } = deadLetterTarget(body);
      return this.dashboard.requeueDeadLetter(queue, offset, ref);
    });
  }

  @Post('api/queues/:queue/dead/remove')
  @HttpCode(200)
  @ApiAnswer()
  removeDead(
    @Param('queue') queue: string,
    @Body() body: unknown,
    @Headers() headers: RequestHeaders,
  ) {
    return this.action(headers, () => {
      const { offset, ref } = deadLetterTarget(body);
      return this.dashboard.removeDeadLetter(queue, offset, ref);
    });
  }

  @Post('api/queues/:queue/dead/requeue-all')
  @HttpCode(200)
  @ApiAnswer()
  requeueAllDead(@Param('queue') queue: string, @Headers() headers: RequestHeaders) {
    return this.action(headers, () => this.dashboard.requeueAllDeadLetters(queue));
  }

  @Post('api/queues/:queue/scheduled/cancel')
  @HttpCode(200)
  @ApiAnswer()
  cancelScheduled(
    @Param('queue') queue: string,
    @Body() body: unknown,
    @Headers() headers: RequestHeaders,
  ) {
    return this.action(headers, () => {
      const id = field(body, 'id');
      if (typeof id !== 'string') throw new BadRequestException('Give the task\'s "id"');
      return this.dashboard.cancelScheduled(queue, id);
    });
  }

  @Post('api/queues/:queue/pause')
  @HttpCode(200)
  @ApiAnswer()
  pause(@Param('queue') queue: string, @Headers() headers: RequestHeaders) {
    return this.action(headers, () => this.dashboard.pause(queue));
  }

  @Post('api/queues/:queue/resume')
  @HttpCode(200)
  @ApiAnswer()
  resume(@Param('queue') queue: string, @Headers() headers: RequestHeaders) {
    return this.action(headers, () => this.dashboard.resume(queue));
  }

  /**
   * Runs an action: only when actions are on, and only for a request a cross-site page
   * cannot make. A form (or any "simple" request) cannot send a JSON body, and a script on
   * another site that sets one needs CORS to allow it; a browser also says where a request
   * comes from (Sec-Fetch-Site), and only the page's own origin is taken.
   */
  private action<T>(headers: RequestHeaders, work: () => Promise<T>): Promise<T> {
    if (!this.dashboard.settings.actions) {
      throw new ForbiddenException(
        'This dashboard is read-only: register it with actions: true to requeue, remove, cancel, pause or resume',
      );
    }
    const type = String(headers['content-type'] ?? '');
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      throw new UnsupportedMediaTypeException(
        'Actions take a JSON body: send Content-Type: application/json',
      );
    }
    const site = headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin') {
      throw new ForbiddenException(
        `Actions are taken only from the dashboard's own origin (this request is ${String(site)})`,
      );
    }
    return this.run(work);
  }

  /** Runs a read or an action, turning the engine's errors into HTTP answers. */
  private async run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof HttpException) throw error;
      if (error instanceof InvalidOptionsError) throw new BadRequestException(error.message);
      if (error instanceof RedisUnavailableError) {
        throw new ServiceUnavailableException(error.message);
      }
      throw error;
    }
  }
}

/**
 * A controller class of its own for one mount: the given path, the given guards on the
 * class (so on every route, the page and each API call alike), and that mount's dashboard.
 */
export function mountDashboardController(
  settings: ResolvedDashboardOptions,
  dashboardToken: symbol,
): Type<DashboardController> {
  class DelayedDashboardController extends DashboardController {
    constructor(@Inject(dashboardToken) dashboard: QueueDashboard) {
      super(dashboard);
    }
  }
  Object.defineProperty(DelayedDashboardController, 'name', {
    value: `DelayedDashboardController(/${settings.path})`,
  });
  Controller(settings.path)(DelayedDashboardController);
  if (settings.guards.length > 0) UseGuards(...settings.guards)(DelayedDashboardController);
  return DelayedDashboardController;
}

function field(body: unknown, name: string): unknown {
  return body !== null && typeof body === 'object'
    ? (body as Record<string, unknown>)[name]
    : undefined;
}

function deadLetterTarget(body: unknown): { offset: number; ref: string } {
  const offset = field(body, 'offset');
  const ref = field(body, 'ref');
  if (!Number.isSafeInteger(offset) || (offset as number) < 0 || typeof ref !== 'string') {
    throw new BadRequestException(
      'Name the dead letter by the "offset" and "ref" its page gave: { "offset": 0, "ref": "…" }',
    );
  }
  return { offset: offset as number, ref };
}

function parseOffset(value: unknown): number {
  if (value === undefined || value === '') return 0;
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) {
    throw new BadRequestException(
      `offset must be a whole number >= 0, got ${JSON.stringify(value)}`,
    );
  }
  return Number(value);
}

function parseLimit(value: unknown): number {
  if (value === undefined || value === '') return DEFAULT_PAGE_SIZE;
  const limit = typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : NaN;
  if (!(limit >= 1 && limit <= MAX_PAGE_SIZE)) {
    throw new BadRequestException(
      `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}, got ${JSON.stringify(value)}`,
    );
  }
  return limit;
}

function parseCursor(value: unknown): string | null {
  if (value === undefined || value === '' || value === '0') return null;
  if (typeof value !== 'string' || !/^\d{1,20}$/.test(value)) {
    throw new BadRequestException(
      `cursor must be the "next" of a previous page, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}
