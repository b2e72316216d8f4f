// Package results is what `vitseg results` does with the result and dead-letter topics: it gathers the
// events of a key prefix as they arrive (Collector), waiting for them with a progress line (Collector.Wait),
// summarises them (WriteSummary) and draws the photos with their mask overlays on a contact sheet
// (WriteContactSheet).
package results
