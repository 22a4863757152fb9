// Package notify sends a short human summary of what the product did (a
// rotation, an expiry sweep) to a chat robot or a generic webhook.
//
// The supported kinds are dingtalk (custom robot, optionally signed with the
// timestamp/sign query parameters), feishu (custom bot, signed in the body),
// wecom (group robot), slack (incoming webhook) and webhook (generic JSON
// with an HMAC-SHA256 signature header). New returns a Nop notifier when no
// URL is configured.
//
// A failing notification must never fail its caller: callers log the error
// and put it in their report. Errors returned here never contain the secret,
// the signature or the URL's query string (DingTalk and WeCom carry their
// access token in the query), nor, for slack and feishu, the URL's path
// (where their token is).
package notify
