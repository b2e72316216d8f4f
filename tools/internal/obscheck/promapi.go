// Package obscheck checks the chart's dashboard queries and alert expressions against a running Prometheus
// through its HTTP API: every dashboard query returns data, every metric and label an alert selects exists,
// and chosen alerts fire.
package obscheck

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Client queries one Prometheus server's HTTP API.
type Client struct {
	base string
	http *http.Client
}

// NewClient returns a client of the Prometheus at base (e.g. http://127.0.0.1:9090) that sends its requests
// with hc.
func NewClient(base string, hc *http.Client) *Client {
	return &Client{base: strings.TrimSuffix(base, "/"), http: hc}
}

// Sample is one series of an instant query's result: its labels and value (as Prometheus formats it; NaN is a
// value).
type Sample struct {
	Metric map[string]string
	Value  string
}

// queryResponse is the API's answer to /api/v1/query.
type queryResponse struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

// Query evaluates expr at the server's current time and returns its samples: the series of a vector, or the
// one value of a scalar.
func (c *Client) Query(ctx context.Context, expr string) ([]Sample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		c.base+"/api/v1/query?"+url.Values{"query": {expr}}.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", expr, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", expr, err)
	}
	defer resp.Body.Close() //nolint:errcheck // Read-only body.
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("query %q: read answer: %w", expr, err)
	}
	var qr queryResponse
	if err := json.Unmarshal(body, &qr); err != nil {
		return nil, fmt.Errorf("query %q: HTTP %d, undecodable answer: %w", expr, resp.StatusCode, err)
	}
	if qr.Status != "success" {
		return nil, fmt.Errorf("query %q: %s: %s", expr, qr.ErrorType, qr.Error)
	}
	return decodeResult(qr.Data.ResultType, qr.Data.Result)
}

// decodeResult decodes the result of an instant query.
func decodeResult(kind string, result json.RawMessage) ([]Sample, error) {
	switch kind {
	case "vector":
		var series []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		}
		if err := json.Unmarshal(result, &series); err != nil {
			return nil, fmt.Errorf("decode vector: %w", err)
		}
		out := make([]Sample, 0, len(series))
		for _, s := range series {
			v, _ := s.Value[1].(string)
			out = append(out, Sample{Metric: s.Metric, Value: v})
		}
		return out, nil
	case "scalar":
		var v [2]any
		if err := json.Unmarshal(result, &v); err != nil {
			return nil, fmt.Errorf("decode scalar: %w", err)
		}
		s, _ := v[1].(string)
		return []Sample{{Value: s}}, nil
	}
	return nil, fmt.Errorf("unexpected result type %q of an instant query", kind)
}
