package main

import (
	"context"
	"errors"
)

func runToken(ctx context.Context, e *env, args []string) error {
	return errors.New("token: not implemented yet")
}
