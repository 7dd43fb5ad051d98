% Text
% Ivo has never married and runs a bakery. In 2017 he employed Jo all year, paying her $4000 in
% cash on January 31st and $4000 by check on July 31st; Kim from March to September, paid $3000 at
% the end of each quarter (March 31st, June 30th and September 29th); and Lu for two weeks in
% December, paid $800 on December 15th. Ivo's profit for 2017 was $90000; he does not itemize.
% By hand: Ivo paid more than $1,500 of wages: an employer (§3306(a)(1)(A)). Wages per employee
% are capped at $7,000 (§3306(b)(1)): Jo $7,000, Kim $7,000 (of $9,000), Lu $800: $14,800, excise
% tax 6% = $888 (§3301). Income tax: $90,000 - $3,000 - $2,000 = $85,000: §1(c)(iii), $12,107 + 31%
% of $31,500 = $21,872. Total $22,760.

% Question
% How much tax does Ivo have to pay in 2017? $22760

% Facts
:- [statutes/prolog/init].
business_(ivos_bakery).
agent_(ivos_bakery,ivo).
service_(jo_bakes).
agent_(jo_bakes,jo).
patient_(jo_bakes,ivo).
location_(jo_bakes,ivos_bakery).
start_(jo_bakes,"2017-01-03").
end_(jo_bakes,"2017-12-22").
payment_(ivo_pays_jo_january).
agent_(ivo_pays_jo_january,ivo).
patient_(ivo_pays_jo_january,jo).
purpose_(ivo_pays_jo_january,jo_bakes).
amount_(ivo_pays_jo_january,4000).
means_(ivo_pays_jo_january,cash).
start_(ivo_pays_jo_january,"2017-01-31").
payment_(ivo_pays_jo_july).
agent_(ivo_pays_jo_july,ivo).
patient_(ivo_pays_jo_july,jo).
purpose_(ivo_pays_jo_july,jo_bakes).
amount_(ivo_pays_jo_july,4000).
means_(ivo_pays_jo_july,check).
start_(ivo_pays_jo_july,"2017-07-31").
service_(kim_sells).
agent_(kim_sells,kim).
patient_(kim_sells,ivo).
location_(kim_sells,ivos_bakery).
start_(kim_sells,"2017-03-01").
end_(kim_sells,"2017-09-30").
payment_(ivo_pays_kim).
agent_(ivo_pays_kim,ivo).
patient_(ivo_pays_kim,kim).
purpose_(ivo_pays_kim,kim_sells).
amount_(ivo_pays_kim,3000).
start_(ivo_pays_kim,"2017-03-31").
start_(ivo_pays_kim,"2017-06-30").
start_(ivo_pays_kim,"2017-09-29").
service_(lu_cleans).
agent_(lu_cleans,lu).
patient_(lu_cleans,ivo).
location_(lu_cleans,ivos_bakery).
start_(lu_cleans,"2017-12-04").
end_(lu_cleans,"2017-12-15").
payment_(ivo_pays_lu).
agent_(ivo_pays_lu,ivo).
patient_(ivo_pays_lu,lu).
purpose_(ivo_pays_lu,lu_cleans).
amount_(ivo_pays_lu,800).
start_(ivo_pays_lu,"2017-12-15").
income_(ivo_profit_2017).
agent_(ivo_profit_2017,ivo).
amount_(ivo_profit_2017,90000).
start_(ivo_profit_2017,"2017-12-31").

% Test
:- tax(ivo,2017,22760).
:- halt.
