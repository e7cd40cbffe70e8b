module example.com/hello

go 1.19

require (
	example.com/greet v1.2.3
	example.com/oldfmt v1.0.0
	example.com/local v0.1.0
)

replace example.com/oldfmt v1.0.0 => example.com/newfmt v1.1.0

replace example.com/local v0.1.0 => ./local
