// A small typed client over the generated `schema.d.ts` (openapi-typescript): it must compile with
// `tsc --strict` against the API's current OpenAPI document (tests/integration/test_generated_clients.py).
import type { components, paths } from "./schema";

type Schemas = components["schemas"];
type Funnel = paths["/v1/reports/funnel"]["get"]["responses"][200]["content"]["application/json"];
type DealPage = paths["/v1/deals"]["get"]["responses"][200]["content"]["application/json"];
type Appended = paths["/v1/deals/{deal_id}/events"]["post"]["responses"][201]["content"]["application/json"];
type ApiError = Schemas["ErrorOut"];

export class DealtrailClient {
  constructor(private base: string, private key: string) {}

  private async get<T>(path: string): Promise<T> {
    const response = await fetch(this.base + path, { headers: { Authorization: `Bearer ${this.key}` } });
    if (!response.ok) {
      const failure = (await response.json()) as ApiError;
      throw new Error(`${failure.error.code}: ${failure.error.message}`);
    }
    return (await response.json()) as T;
  }

  funnel(): Promise<Funnel> {
    return this.get<Funnel>("/v1/reports/funnel");
  }

  deals(): Promise<DealPage> {
    return this.get<DealPage>("/v1/deals?limit=10");
  }
}

export function firstStage(funnel: Funnel): string {
  if (funnel.mode === "cohort") {
    const cohort: Schemas["FunnelCohortOut"] = funnel;
    return `${cohort.stages[0].stage}: ${cohort.stages[0].reached} reached, win rate ${cohort.win_rate ?? "n/a"}`;
  }
  const snapshot: Schemas["FunnelSnapshotOut"] = funnel;
  return `${snapshot.stages[0].stage}: ${snapshot.stages[0].open} open (${snapshot.stages[0].open_amount})`;
}

export function describe(page: DealPage, appended: Appended, cycle: Schemas["CycleTimeOut"]): string {
  const titles = page.deals.map((deal) => deal.deal_id).join(", ");
  return `${page.total} deals (${titles}); appended v${appended.stream_version} at ${appended.position}; `
    + `median cycle ${cycle.overall.p50_days ?? "n/a"} days`;
}
