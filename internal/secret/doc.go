// Package secret holds the one type that carries credentials through
// Breadcrumb: a string that never prints itself.
package secret
