// The recorder's frame clock, in a worker: Chrome runs a background tab's timers about once a
// second, a dedicated worker's at their own pace. Message n > 0: tick every n ms; 0: stop.
let timer = null;
self.onmessage = (event) => {
  clearInterval(timer);
  if (event.data > 0) timer = setInterval(() => self.postMessage("tick"), event.data);
};
