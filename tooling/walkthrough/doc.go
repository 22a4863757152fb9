// Package walkthrough tests the README's "Your first hour": it runs the
// commands of that section, exactly as written, in a fresh copy of the
// repository and checks what a newcomer is told to look for.
package walkthrough
