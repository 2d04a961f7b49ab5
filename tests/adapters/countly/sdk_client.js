// Drives the real countly-sdk-nodejs against a live gateway, then waits until its queues are empty.
// Usage: node sdk_client.js <server url> <app_key> <device_id> <storage dir>
"use strict";

const Countly = require("countly-sdk-nodejs");
const Storage = require("countly-sdk-nodejs/lib/countly-storage");

const [url, appKey, deviceId, storagePath] = process.argv.slice(2);
if (!url || !appKey || !deviceId || !storagePath) {
    console.error("usage: node sdk_client.js <url> <app_key> <device_id> <storage dir>");
    process.exit(2);
}

Countly.init({
    url: url,
    app_key: appKey,
    device_id: deviceId,
    storage_path: storagePath,
    interval: 100,
    fail_timeout: 1,
    max_events: 100,
    require_consent: false,
    debug: Boolean(process.env.COUNTLY_DEBUG),
    metrics: { _os: "Linux", _os_version: "6.1", _device: "sdk-box", _app_version: "1.2.3", _resolution: "1920x1080" },
});

Countly.begin_session(true); // no automatic heartbeats: the script reports durations itself
Countly.add_event({ key: "purchase", count: 2, sum: 9.5, segmentation: { plan: "pro" } });
Countly.add_event({ key: "purchase", count: 1, sum: 0.5, segmentation: { plan: "free" } });
Countly.add_event({ key: "level_up", count: 3, dur: 12 });

let ended = false;
setTimeout(() => {
    Countly.session_duration(30);
    Countly.end_session(15);
    ended = true;
}, 500);

const started = Date.now();
const poll = setInterval(() => {
    const queue = Storage.storeGet("cly_queue", []) || [];
    const events = Storage.storeGet("cly_event", []) || [];
    if (ended && queue.length === 0 && events.length === 0 && Date.now() - started > 1500) {
        clearInterval(poll);
        Countly.halt(true);
        process.exit(0);
    }
    if (Date.now() - started > 30000) {
        console.error("queue not drained:", JSON.stringify(queue));
        process.exit(1);
    }
}, 100);
