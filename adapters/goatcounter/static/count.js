// count.js of the analytics gateway: counts a page's views and clicks the way GoatCounter's count.js does, for
// any server that speaks GoatCounter's /count (this gateway, or GoatCounter itself). No dependencies.
//
//   <script data-goatcounter="https://stats.example.com/count" async src="https://stats.example.com/count.js"></script>
//
// Settings: data-goatcounter-settings='{"allow_local": true, "no_onload": false, "no_events": false,
// "allow_frame": false, "path": "/override", "title": "...", "referrer": "..."}', or window.goatcounter = {...}
// set before the script. Clicks on elements with data-goatcounter-click="name" are counted as events
// (data-goatcounter-title, data-goatcounter-referrer). window.goatcounter.count({path, title, referrer, event})
// counts anything else.
;(function () {
  'use strict'

  if (window.goatcounter && window.goatcounter.vars) return // loaded twice
  var gc = window.goatcounter = window.goatcounter || {}
  var script = document.currentScript || document.querySelector('script[data-goatcounter]')

  try {
    var fromTag = JSON.parse((script && script.getAttribute('data-goatcounter-settings')) || '{}')
    for (var key in fromTag) {
      if (Object.prototype.hasOwnProperty.call(fromTag, key) && gc[key] === undefined) gc[key] = fromTag[key]
    }
  } catch (error) {
    console.error('goatcounter: data-goatcounter-settings is not JSON: ' + error)
  }

  var endpoint = function () {
    return gc.endpoint || (script && script.getAttribute('data-goatcounter')) || ''
  }

  // A bot score the server knows (150 and above): automated and headless browsers.
  var botScore = function () {
    var w = window, d = document, n = navigator
    if (w.callPhantom || w._phantom || w.phantom) return 150
    if (w.__nightmare) return 151
    if (d.__selenium_unwrapped || d.__webdriver_evaluate || d.__driver_evaluate) return 152
    if (n.webdriver) return 153
    return 0
  }

  // Why the page is not counted, or '' when it is.
  var filter = function () {
    if ('visibilityState' in document && document.visibilityState === 'prerender') return 'visibilityState'
    if (!gc.allow_frame && window.location !== window.parent.location) return 'frame'
    if (!gc.allow_local && /(localhost$|^127\.|^10\.|^172\.(1[6-9]|2[0-9]|3[0-1])\.|^192\.168\.|^0\.0\.0\.0$|^\[::1\]$)/.test(window.location.hostname)) return 'localhost'
    if (!gc.allow_local && window.location.protocol === 'file:') return 'localhost'
    try {
      if (window.localStorage && window.localStorage.getItem('skipgc') === 't') return 'disabled'
    } catch (error) { /* storage may be forbidden */ }
    return ''
  }

  var pagePath = function () {
    var canonical = document.querySelector('link[rel="canonical"][href]')
    if (canonical) {
      var link = document.createElement('a')
      link.href = canonical.href
      if (link.hostname.replace(/^www\./, '') === window.location.hostname.replace(/^www\./, '')) {
        return link.pathname + link.search
      }
    }
    return window.location.pathname + window.location.search
  }

  var ownReferrer = function () {
    var referrer = document.referrer
    if (!referrer) return ''
    var link = document.createElement('a')
    link.href = referrer
    return link.hostname === window.location.hostname ? '' : referrer
  }

  var value = function (given, setting, fallback) {
    if (given !== undefined && given !== null) return given
    if (typeof setting === 'function') return setting(fallback())
    if (setting !== undefined && setting !== null) return setting
    return fallback()
  }

  // The parameters of one hit (the names /count reads).
  gc.get_data = function (vars) {
    vars = vars || {}
    var data = {
      p: value(vars.path, gc.path, pagePath),
      r: value(vars.referrer, gc.referrer, ownReferrer),
      t: value(vars.title, gc.title, function () { return document.title }),
      e: !!(vars.event || gc.event),
      s: [window.screen.width, window.screen.height, window.devicePixelRatio || 1].join(','),
      b: botScore(),
      q: window.location.search,
      rnd: Math.random().toString(36).substr(2, 5)
    }
    if (vars.event) data.p = String(data.p).replace(/^\//, '')
    return data
  }

  gc.url = function (vars) {
    var data = gc.get_data(vars)
    if (data.p === null) return null
    var url = endpoint()
    if (!url) return null
    var query = []
    for (var name in data) {
      if (data[name] !== '' && data[name] !== null && data[name] !== undefined && data[name] !== false) {
        query.push(encodeURIComponent(name) + '=' + encodeURIComponent(data[name]))
      }
    }
    return url + (url.indexOf('?') === -1 ? '?' : '&') + query.join('&')
  }

  gc.filter = filter

  gc.count = function (vars) {
    var why = filter()
    if (why) {
      if (window.console && console.log) console.log('goatcounter: not counting because of: ' + why)
      return
    }
    var url = gc.url(vars)
    if (!url) {
      if (window.console && console.log) console.log('goatcounter: not counting: no endpoint or path')
      return
    }
    if (navigator.sendBeacon && navigator.sendBeacon(url)) return
    var img = document.createElement('img')
    img.src = url
    img.style.position = 'absolute'
    img.style.bottom = '0px'
    img.style.width = '1px'
    img.style.height = '1px'
    img.loading = 'eager'
    img.setAttribute('alt', '')
    img.setAttribute('aria-hidden', 'true')
    var remove = function () { if (img.parentNode) img.parentNode.removeChild(img) }
    img.addEventListener('load', remove, false)
    img.addEventListener('error', remove, false)
    document.body.appendChild(img)
  }

  gc.get_query = function (name) {
    var pairs = window.location.search.substr(1).split('&')
    for (var i = 0; i < pairs.length; i++) {
      if (pairs[i].toLowerCase().indexOf(name.toLowerCase() + '=') === 0) {
        return decodeURIComponent(pairs[i].substr(name.length + 1))
      }
    }
  }

  gc.bind_events = function () {
    if (!document.querySelectorAll) return
    var send = function (element) {
      return function () {
        gc.count({
          event: true,
          path: element.dataset.goatcounterClick || element.name || element.id || '',
          title: element.dataset.goatcounterTitle || element.title || (element.innerHTML || '').substr(0, 200) || '',
          referrer: element.dataset.goatcounterReferrer || element.dataset.goatcounterReferral || ''
        })
      }
    }
    Array.prototype.slice.call(document.querySelectorAll('*[data-goatcounter-click]')).forEach(function (element) {
      if (element.dataset.goatcounterBound) return
      var handler = send(element)
      element.addEventListener('click', handler, false)
      element.addEventListener('auxclick', handler, false)
      element.dataset.goatcounterBound = 'true'
    })
  }

  gc.vars = true
  var start = function () {
    if (!gc.no_onload) gc.count()
    if (!gc.no_events) gc.bind_events()
  }
  if (document.body === null || document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start, false)
  } else {
    start()
  }
})()
