// Opens the report in Debian's headless Chromium; fails on any console error,
// page error or dialog, and unless every chart has drawn its SVG. Writes a
// full-page screenshot, and with SECTIONS_DIR one per section (section-NN.png).
// Usage: node check_report.mjs REPORT.html SHOT.png [SECTIONS_DIR]
import { chromium } from "playwright-core";

const [report, shot, sectionsDir] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
const errors = [];
page.on("console", (msg) => { if (msg.type() === "error") errors.push(msg.text()); });
page.on("pageerror", (err) => errors.push(String(err)));
// a string from the data that became markup: any dialog is a script that ran
page.on("dialog", async (dialog) => { errors.push("dialog opened: " + dialog.message()); await dialog.dismiss(); });
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
const injected = await page.evaluate(() => {
  // elements that carry script: on* handlers or javascript: links outside plotly's own toolbar
  const found = [];
  for (const el of document.querySelectorAll("body *")) {
    for (const attr of el.attributes) {
      if (/^on/i.test(attr.name) || /^\s*javascript:/i.test(attr.value)) found.push(`${el.tagName} ${attr.name}`);
    }
  }
  if (window.__skinmap_pwned) found.push("window.__skinmap_pwned set");
  return found;
});
const overlaps = await page.evaluate(() => {
  // text labels of one chart that overlap each other (tick labels, bar texts, annotations)
  const found = [];
  for (const chart of document.querySelectorAll("div.chart")) {
    const boxes = [...chart.querySelectorAll(".main-svg text")].filter((t) => t.textContent.trim())
      .map((t) => ({ text: t.textContent, r: t.getBoundingClientRect() })).filter((b) => b.r.width > 0);
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i].r, b = boxes[j].r;
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 2 && h > 2 && w * h > 0.3 * Math.min(a.width * a.height, b.width * b.height))
        found.push(`${chart.dataset.chart}: "${boxes[i].text}" / "${boxes[j].text}"`);
    }
  }
  return found;
});
if (sectionsDir) {
  const sections = page.locator("section");
  for (let i = 0; i < await sections.count(); i++)
    await sections.nth(i).screenshot({ path: `${sectionsDir}/section-${String(i + 1).padStart(2, "0")}.png` });
}
await browser.close();
console.log(JSON.stringify({ expected, drawn, errors, overlaps, injected }));
