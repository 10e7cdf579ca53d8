export { type BuildReportInput, buildReport, type Report } from './build-report.ts';
export { COMMENT_MARKER, isReportComment, shortSha } from './comment-marker.ts';
export {
  type Budget,
  budgets,
  CHECK_SUMMARY_LIMIT,
  CHECK_TEXT_LIMIT,
  COMMENT_LIMIT,
} from './fit-to-limit.ts';
export {
  formatChange,
  formatDuration,
  formatNumber,
  formatPercent,
  formatPoints,
  formatRelative,
  formatValue,
} from './format-number.ts';
/** For any other text the PR controls that an app posts to GitHub. */
export { neutralizeReferences } from './markdown-text.ts';
export { type DirectionSource, directionOf, isRatioMetric, metricWords } from './metric-direction.ts';
export {
  buildMetricRows,
  type MetricRow,
  type Outcome,
  type SideStats,
  type ThresholdCheck,
} from './metric-rows.ts';
export { renderCharts } from './render-charts.ts';
export { type ConfigErrorLike, renderConfigError } from './render-failure.ts';
export {
  type ForkRefusalInput,
  renderForkRefusal,
  renderForkRefusalCheckRun,
} from './render-fork-refusal.ts';
export {
  type CancelReason,
  type PendingInput,
  renderCancelled,
  renderCancelledComment,
  renderPending,
  renderPendingCheckRun,
  renderSuperseded,
  type SideProgress,
} from './render-pending.ts';
export {
  type HistoryEntry,
  historyEntrySchema,
  MAX_HISTORY,
  parseReportHistory,
  serializeReportHistory,
} from './report-history.ts';
export { baseConfigOf, configErrorsOf } from './report-inputs.ts';
export {
  logGamma,
  mean,
  regularizedIncompleteBeta,
  sampleStandardDeviation,
  studentTCdf,
  type WelchResult,
  welchTTest,
} from './statistics.ts';
export { type Conclusion, decideVerdict, type Verdict } from './verdict.ts';
