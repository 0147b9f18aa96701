//go:build tools

// Package tools pins the commands built from this module (one `go build`, see ../build.sh):
//
//	go build -trimpath -o bin/ k8s.io/kubernetes/cmd/{kube-apiserver,kubectl,kubelet,kube-controller-manager,kube-scheduler,kube-proxy}
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
