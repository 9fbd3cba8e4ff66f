/** `spell dashboard`: the live run page (server, run following, rollout index). */
export { startDashboard, type Dashboard, type DashboardOptions } from './server.ts';
