module labforge.local/pause

go 1.21
