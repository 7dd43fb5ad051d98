% Text
% June, unmarried, owns an orchard. From June 5th to August 25th, 2017, Kit, Lev, Max, Nia and Oz picked
% fruit there; on August 25th June paid each of them $1000 in cash. June earned $50000 in 2017 and does
% not itemize.
% By hand: wages for agricultural labor $5,000, under §3306(a)(2)(A)'s $20,000; but five individuals
% were employed in agricultural labor on days of 12 different calendar weeks: June is an employer
% (§3306(a)(2)(B)) and the labor is employment (§3306(c)(1)(A)(ii)). Excise 6% of $5,000 = $300.
% Income tax $50,000 - $5,000 = $45,000: §1(c)(ii) $3,315 + 28% of $22,900 = $9,727. Total $10,027.

% Question
% How much tax does June have to pay in 2017? $10027

% Facts
:- [statutes/prolog/init].
business_(june_orchard).
agent_(june_orchard,june).
agricultural_service_(kit_picks).
agent_(kit_picks,kit).
patient_(kit_picks,june).
location_(kit_picks,june_orchard).
start_(kit_picks,"2017-06-05").
end_(kit_picks,"2017-08-25").
payment_(june_pays_kit).
agent_(june_pays_kit,june).
patient_(june_pays_kit,kit).
purpose_(june_pays_kit,kit_picks).
amount_(june_pays_kit,1000).
means_(june_pays_kit,cash).
start_(june_pays_kit,"2017-08-25").
agricultural_service_(lev_picks).
agent_(lev_picks,lev).
patient_(lev_picks,june).
location_(lev_picks,june_orchard).
start_(lev_picks,"2017-06-05").
end_(lev_picks,"2017-08-25").
payment_(june_pays_lev).
agent_(june_pays_lev,june).
patient_(june_pays_lev,lev).
purpose_(june_pays_lev,lev_picks).
amount_(june_pays_lev,1000).
means_(june_pays_lev,cash).
start_(june_pays_lev,"2017-08-25").
agricultural_service_(max_picks).
agent_(max_picks,max).
patient_(max_picks,june).
location_(max_picks,june_orchard).
start_(max_picks,"2017-06-05").
end_(max_picks,"2017-08-25").
payment_(june_pays_max).
agent_(june_pays_max,june).
patient_(june_pays_max,max).
purpose_(june_pays_max,max_picks).
amount_(june_pays_max,1000).
means_(june_pays_max,cash).
start_(june_pays_max,"2017-08-25").
agricultural_service_(nia_picks).
agent_(nia_picks,nia).
patient_(nia_picks,june).
location_(nia_picks,june_orchard).
start_(nia_picks,"2017-06-05").
end_(nia_picks,"2017-08-25").
payment_(june_pays_nia).
agent_(june_pays_nia,june).
patient_(june_pays_nia,nia).
purpose_(june_pays_nia,nia_picks).
amount_(june_pays_nia,1000).
means_(june_pays_nia,cash).
start_(june_pays_nia,"2017-08-25").
agricultural_service_(oz_picks).
agent_(oz_picks,oz).
patient_(oz_picks,june).
location_(oz_picks,june_orchard).
start_(oz_picks,"2017-06-05").
end_(oz_picks,"2017-08-25").
payment_(june_pays_oz).
agent_(june_pays_oz,june).
patient_(june_pays_oz,oz).
purpose_(june_pays_oz,oz_picks).
amount_(june_pays_oz,1000).
means_(june_pays_oz,cash).
start_(june_pays_oz,"2017-08-25").
income_(june_income).
agent_(june_income,june).
amount_(june_income,50000).
start_(june_income,"2017-12-31").

% Test
:- tax(june,2017,10027).
:- halt.
