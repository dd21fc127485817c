// The queue dashboard, at 'nestjs-delayed/dashboard': a Nest module to mount (it needs
// DelayedModule in the app). Imported only by apps that mount it.
export { DelayedDashboardModule } from './dashboard.module.js';
export type { DashboardOptions } from './dashboard.options.js';
export type {
  DeadLetterView,
  OverviewView,
  PageView,
  QueueView,
  RunningView,
  ScheduledView,
  ScheduleView,
  TaskView,
} from './dashboard.views.js';
export type { CountSeries } from './count-history.js';
