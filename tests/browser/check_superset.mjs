// Logs in to Superset in Debian's headless Chromium and opens a dashboard;
// fails unless every chart has drawn (canvas, table or big number) with no
// chart error. Requests to hosts other than localhost (the frontend's
// telemetry pixel) are aborted and listed. Writes a screenshot.
// Usage: node check_superset.mjs BASE_URL USER PASSWORD DASHBOARD_PATH SHOT.png
import { chromium } from "playwright-core";

const [baseUrl, user, password, dashboardPath, shot] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
const blocked = [];
await context.route("**/*", (route) => {
  const host = new URL(route.request().url()).hostname;
  if (["127.0.0.1", "localhost"].includes(host)) return route.continue();
  blocked.push(route.request().url());
  return route.abort();
});
const page = await context.newPage();
const errors = [];
page.on("pageerror", (err) => errors.push(String(err)));

await page.goto(baseUrl + "/login/", { waitUntil: "domcontentloaded" });
await page.locator('input[name="username"], #username').first().fill(user);
await page.locator('input[name="password"], #password').first().fill(password);
await Promise.all([
  page.waitForURL((url) => !url.pathname.startsWith("/login"), { timeout: 60000 }),
  page.locator('button[type="submit"], input[type="submit"]').first().click(),
]);

await page.goto(baseUrl + dashboardPath, { waitUntil: "domcontentloaded" });
const holders = page.locator(".dashboard-component-chart-holder");
await holders.first().waitFor({ timeout: 90000 });
const expected = await holders.count();
const drawnSelector = "canvas, table tbody tr, .header-line, .big-number";
await page.waitForFunction(
  ([n, sel]) => {
    const all = [...document.querySelectorAll(".dashboard-component-chart-holder")];
    return all.length >= n && all.every((h) => h.querySelector(sel) || h.querySelector(".alert, .ant-alert"));
  },
  [expected, drawnSelector], { timeout: 90000 },
).catch((err) => errors.push("charts not drawn: " + err.message));
await page.waitForTimeout(1500); // let echarts finish its entry animation before the screenshot
const charts = await page.evaluate((sel) => [...document.querySelectorAll(".dashboard-component-chart-holder")].map((h) => ({
  title: (h.querySelector(".header-title, [data-test='editable-title']") || {}).textContent || "",
  drawn: Boolean(h.querySelector(sel)),
  error: (h.querySelector(".alert, .ant-alert") || {}).textContent || null,
})), drawnSelector);
const title = await page.title();
await page.screenshot({ path: shot, fullPage: true });
await browser.close();
console.log(JSON.stringify({ title, expected, charts, errors, blocked }));
