module github.com/bonafide-dev/bonafide

go 1.26.8

require (
	github.com/stretchr/testify v1.12.1
	gocv.io/x/gocv v0.31.0
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect
