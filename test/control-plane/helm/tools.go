//go:build tools

// Package tools pins the Helm v3 CLI built from this module:
//
//	go build -trimpath -o bin/ helm.sh/helm/v3/cmd/helm
package tools

import _ "helm.sh/helm/v3/cmd/helm"
