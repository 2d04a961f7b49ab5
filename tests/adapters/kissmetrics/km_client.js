// The npm `kissmetrics` client against the gateway: record, set and alias, then exit once all are answered.
const KM = require("kissmetrics");
const [port, key] = process.argv.slice(2);
const km = new KM({ key, host: "127.0.0.1", port: Number(port) });
const done = (step) => (err) => {
  if (err) {
    console.error(step, err.message);
    process.exit(1);
  }
};
km.record("npm-user@example.com", "Signed Up", { Plan: "Pro", Referrer: "a+b@c" }, (err) => {
  done("record")(err);
  km.set("npm-user@example.com", { Seats: 5 }, (err2) => {
    done("set")(err2);
    km.alias("npm-user@example.com", ["npm-anon-1", "npm-anon-2"], (err3) => {
      done("alias")(err3);
      console.log("ok");
    });
  });
});
