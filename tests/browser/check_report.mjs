// Opens the report in Debian's headless Chromium; fails on any console error
// or page error, and unless every chart has drawn its SVG. Writes a
// full-page screenshot. Usage: node check_report.mjs REPORT.html SHOT.png
import { chromium } from "playwright-core";

const [report, shot] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
const errors = [];
page.on("console", (msg) => { if (msg.type() === "error") errors.push(msg.text()); });
page.on("pageerror", (err) => errors.push(String(err)));
await page.goto("file://" + report, { waitUntil: "load" });
const expected = await page.locator("div.chart").count();
await page.waitForFunction(
  (n) => document.querySelectorAll("div.chart .js-plotly-plot .main-svg").length >= n,
  expected, { timeout: 30000 }).catch((err) => errors.push("charts not drawn: " + err.message));
const drawn = await page.evaluate(() => [...document.querySelectorAll("div.chart")].map((d) => ({
  chart: d.dataset.chart,
  marks: d.querySelectorAll(".main-svg .trace path, .main-svg .trace image, .main-svg .hm image").length,
})));
await page.screenshot({ path: shot, fullPage: true });
await browser.close();
console.log(JSON.stringify({ expected, drawn, errors }));
